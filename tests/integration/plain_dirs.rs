//! Directories an Argo CD / Flux object deploys that hold no kustomization file, modelled as
//! environments built with the kustomization each tool generates for them: Flux's generated
//! kustomization (every `.yaml` / `.yml` file, recursively, and every sub-directory holding a
//! kustomization as a resource: fluxcd/pkg `kustomize/kustomize_generator.go`) and Argo CD's
//! directory source (the directory's manifests, its sub-directories' only with
//! `directory.recurse`: argo-cd `reposerver/repository/repository.go`, `findManifests`). The
//! oracles are the real `kubectl kustomize` of a copy of the directory holding the kustomization
//! Flux writes there, and the Python peer decrypting what `emp-seal seal` wrote.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use crate::common::{self, Hit, Peer};
use crate::seal_support::{demo_key, env_text, env_values, ok, write_file};

/// A temporary git repository (`git init`, so that it is the root).
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        common::git(dir.path(), &["init", "-q"]);
        Repo { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `rel`, untracked: no Argo CD or Flux clone holds it.
    fn write_untracked(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        write_file(&p, text.as_bytes());
    }

    /// Writes `rel` and adds it to git's index: tracked, as an Argo CD or Flux clone holds it.
    fn track(&self, rel: &str, text: &str) {
        self.write_untracked(rel, text);
        common::git(self.root(), &["add", rel]);
    }

    /// Writes `rel`, tracked but for a real env file (`*.env`), which stays out of git.
    fn write(&self, rel: &str, text: &str) {
        match rel.ends_with(".env") {
            true => self.write_untracked(rel, text),
            false => self.track(rel, text),
        }
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// `emp-seal -C ROOT ARGS`.
    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut c = crate::seal_support::emp_seal_cmd();
        c.arg("-C").arg(self.root()).args(args);
        c.output().unwrap()
    }

    fn check(&self, args: &[&str]) -> (i32, Vec<Hit>) {
        common::check_hits(self.root(), args)
    }
}

/// A Flux Kustomization deploying `path`.
fn flux(path: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
}

/// An Argo CD Application deploying `path` into the namespace `web`, with `directory` lines
/// (under `spec.source.directory`, six-space indented).
fn argo(path: &str, directory: &str) -> String {
    let directory = if directory.is_empty() {
        String::new()
    } else {
        format!("    directory:\n{directory}")
    };
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/web.git\n    targetRevision: main\n    path: {path}\n{directory}  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n"
    )
}

/// A Deployment `name` reading every key of the Secret `secret` (in `ns`, when given).
fn deployment(name: &str, ns: Option<&str>, secret: &str) -> String {
    let ns = ns
        .map(|n| format!("  namespace: {n}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{ns}spec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: app\n          image: app:1\n          envFrom:\n            - secretRef:\n                name: {secret}\n"
    )
}

/// A SealedSecret `app-secrets` in `prod` with placeholder values for the keys of
/// [`env_text`].
fn sealed() -> String {
    let mut s = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\n  namespace: prod\nspec:\n  encryptedData:\n".to_owned();
    for k in env_values().keys() {
        s.push_str(&format!("    {k}: AgAAAAAAAAAA...REPLACE_ME\n"));
    }
    s.push_str("  template:\n    metadata:\n      name: app-secrets\n      namespace: prod\n");
    s
}

/// A ConfigMap `name` in `prod`.
fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: prod\n")
}

/// The Flux layout of the brief: `clusters/prod/apps.yaml` deploying `apps/prod`, which has no
/// kustomization file but a Deployment reading the SealedSecret, the demo certificate, a
/// non-YAML file, a nested plain directory and a sub-directory with a kustomization of its own.
fn flux_repo() -> Repo {
    let r = Repo::new();
    r.write("clusters/prod/apps.yaml", &flux("./apps/prod"));
    r.write(
        "apps/prod/deployment.yaml",
        &deployment("app", Some("prod"), "app-secrets"),
    );
    r.write("apps/prod/sealedsecret.yaml", &sealed());
    let cert =
        std::fs::read_to_string(common::repo_root().join("k8s/overlays/paper/sealing-cert.pem"))
            .unwrap();
    r.write("apps/prod/sealing-cert.pem", &cert);
    r.write(
        "apps/prod/README.md",
        "# prod\nnot a manifest: kind: Nothing\n",
    );
    r.write(
        "apps/prod/nested/more/settings.yml",
        &config_map("settings"),
    );
    r.write(
        "apps/prod/addon/kustomization.yaml",
        "resources:\n  - cm.yaml\nnamePrefix: addon-\n",
    );
    r.write("apps/prod/addon/cm.yaml", &config_map("conf"));
    // Not listed by Flux: the sub-directory with a kustomization is built, not walked.
    r.write("apps/prod/addon/unlisted.yaml", &config_map("unlisted"));
    r
}

/// The rules of `hits`, but those the demo certificate always gives.
fn rules(hits: &[Hit]) -> Vec<&str> {
    let mut r: Vec<&str> = hits
        .iter()
        .map(|h| h.rule.as_str())
        .filter(|r| !matches!(*r, "demo-certificate" | "sealed-with-demo-certificate"))
        .collect();
    r.sort_unstable();
    r.dedup();
    r
}

/// Seals `prod` from [`env_text`]; asserts success.
fn seal_prod(r: &Repo) {
    let env = tempfile::tempdir().unwrap();
    let path = env.path().join("secrets.env");
    write_file(&path, env_text().as_bytes());
    ok(&r.run(&["seal", "prod", "--from", path.to_str().unwrap()]));
}

/// The Flux path without a kustomization file is an environment (it used to be a note and, as
/// the only deployed directory, "no environment"): the SealedSecret there is checked (a
/// placeholder until sealed), a reference in the nested plain directory to a Secret nothing
/// renders is a `dangling-reference` at its file, and `seal` seals into the SealedSecret file of
/// the directory, whose values the peer decrypts under the identity Flux applies.
#[test]
fn flux_path_without_kustomization_is_checked_and_sealed() {
    let r = flux_repo();
    r.write(
        "apps/prod/nested/worker.yaml",
        &deployment("worker", Some("prod"), "worker-secrets"),
    );
    let (code, hits) = r.check(&[]);
    assert_eq!(code, 1, "{hits:?}");
    let dangling: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "dangling-reference")
        .collect();
    assert_eq!(dangling.len(), 1, "{hits:?}");
    assert_eq!(dangling[0].path, "apps/prod/nested/worker.yaml");
    assert!(dangling[0].message.contains("worker-secrets"), "{hits:?}");
    assert!(
        hits.iter()
            .any(|h| h.rule == "placeholder-ciphertext" && h.path == "apps/prod/sealedsecret.yaml"),
        "{hits:?}"
    );

    seal_prod(&r);
    let text = r.read("apps/prod/sealedsecret.yaml");
    assert!(!text.contains("REPLACE_ME"), "{text}");
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let f = emp_seal::sealedsecret::SealedSecretFile::parse(&text).unwrap();
    let (_, doc) = f.sealed_secrets().next().unwrap();
    let want = env_values();
    assert_eq!(doc.encrypted_data.len(), want.len());
    for e in &doc.encrypted_data {
        let got = peer
            .decrypt(&demo_key(), b"prod/app-secrets", &common::unb64(&e.value))
            .unwrap();
        assert_eq!(got, want[&e.key], "{}", e.key);
    }
    r.write("apps/prod/nested/worker.yaml", &config_map("worker"));
    let (_, hits) = r.check(&[]);
    assert_eq!(rules(&hits), Vec::<&str>::new(), "{hits:?}");
}

/// A `.yaml` file under the Flux path that does not decode as Kubernetes objects fails Flux's
/// generation of the kustomization, and so the sync: an `overlay-build-error` at that file.
#[test]
fn flux_yaml_that_is_no_object_fails_the_build() {
    let r = flux_repo();
    r.write("apps/prod/nested/values.yaml", "replicas: 3\n");
    let (_, hits) = r.check(&[]);
    assert!(
        hits.iter()
            .any(|h| h.rule == "overlay-build-error" && h.path == "apps/prod/nested/values.yaml"),
        "{hits:?}"
    );
}

/// `check --render` renders the Flux directory through a temporary kustomization listing what
/// Flux lists, and agrees with the model (no `render-failed`, no `model-divergence`); the
/// oracle is kubectl's render of a copy of the directory holding the kustomization Flux writes,
/// whose objects are those the model's findings name.
#[test]
fn flux_render_agrees_with_kubectl() {
    if common::kubectl().is_none() {
        return;
    }
    let r = flux_repo();
    seal_prod(&r);
    let (code, hits) = r.check(&["--render=always"]);
    assert_eq!(rules(&hits), Vec::<&str>::new(), "{hits:?}");
    assert_eq!(code, 0, "{hits:?}");

    // The oracle: Flux's kustomization written into a copy.
    let copy = tempfile::tempdir().unwrap();
    common::copy_dir(&r.root().join("apps/prod"), copy.path());
    write_file(
        &copy.path().join("kustomization.yaml"),
        b"resources:\n  - ./addon\n  - ./deployment.yaml\n  - ./nested/more/settings.yml\n  - ./sealedsecret.yaml\n",
    );
    let out = common::kustomize(copy.path());
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  name: "))
        .collect();
    assert_eq!(
        names,
        ["addon-conf", "settings", "app", "app-secrets"],
        "{out}"
    );

    // A render that fails (kustomize refuses two objects of one identity) is a `render-failed`
    // at the Flux Kustomization's `path` line, naming the file as it is in the tree.
    let dup = config_map("dup");
    r.write("apps/prod/nested/dup.yaml", &format!("{dup}---\n{dup}"));
    let (_, hits) = r.check(&["--render=always"]);
    let failed: Vec<&Hit> = hits.iter().filter(|h| h.rule == "render-failed").collect();
    assert_eq!(failed.len(), 1, "{hits:?}");
    assert_eq!(
        (failed[0].path.as_str(), failed[0].line),
        ("clusters/prod/apps.yaml", 8)
    );
    assert!(
        failed[0].message.contains("'apps/prod/nested/dup.yaml'"),
        "{hits:?}"
    );
}

/// An Argo CD Application whose path is a directory of plain manifests: without
/// `directory.recurse` only the directory's own files are applied, so the Secret in its
/// sub-directory is not and the Deployment's reference dangles; with it, the reference resolves.
/// The Application's destination namespace is where the objects without one land, and a YAML
/// file that is no Kubernetes object is skipped, as Argo CD skips it.
#[test]
fn argo_directory_app_with_and_without_recurse() {
    let r = Repo::new();
    r.write("argocd/web.yaml", &argo("apps/web", ""));
    r.write(
        "apps/web/deploy.yaml",
        &deployment("web", None, "web-secrets"),
    );
    r.write("apps/web/values.yaml", "replicas: 3\n");
    r.write(
        "apps/web/secrets/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secrets\nstringData:\n  TOKEN: ${TOKEN}\n",
    );
    let (_, hits) = r.check(&[]);
    let dangling: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "dangling-reference")
        .collect();
    assert_eq!(dangling.len(), 1, "{hits:?}");
    assert_eq!(dangling[0].path, "apps/web/deploy.yaml");
    assert!(
        !hits.iter().any(|h| h.rule == "overlay-build-error"),
        "{hits:?}"
    );

    r.write(
        "argocd/web.yaml",
        &argo("apps/web", "      recurse: true\n"),
    );
    let (_, hits) = r.check(&[]);
    assert!(
        !hits.iter().any(|h| h.rule == "dangling-reference"),
        "{hits:?}"
    );
    assert!(
        !hits.iter().any(|h| h.rule == "overlay-build-error"),
        "{hits:?}"
    );

    // `include` / `exclude` pick files: not replayed, and said so.
    r.write(
        "argocd/web.yaml",
        &argo(
            "apps/web",
            "      recurse: true\n      exclude: 'secrets/*'\n",
        ),
    );
    let (_, hits) = r.check(&[]);
    assert!(
        hits.iter().any(|h| h.rule == "overlay-not-modelled"
            && h.path == "argocd/web.yaml"
            && h.message.contains("directory.exclude")),
        "{hits:?}"
    );
}

/// A Flux Kustomization and an Argo CD Application deploying one directory without a
/// kustomization file build it from different files (Flux recursively, Argo CD without
/// `recurse` its own files only): the model builds it one way, and says so for the other
/// object at its `path` line.
#[test]
fn objects_building_a_plain_directory_differently_are_not_modelled() {
    let r = flux_repo();
    r.write("zz/app.yaml", &argo("apps/prod", ""));
    let (_, hits) = r.check(&[]);
    let not_modelled: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "overlay-not-modelled")
        .collect();
    assert_eq!(not_modelled.len(), 1, "{hits:?}");
    assert_eq!(
        (not_modelled[0].path.as_str(), not_modelled[0].line),
        ("zz/app.yaml", 11)
    );
    assert!(
        not_modelled[0].message.contains(
            "as an Argo CD directory source, the Flux Kustomization in clusters/prod/apps.yaml:8"
        ),
        "{hits:?}"
    );
}

/// An Argo CD directory whose manifests are Jsonnet only: emp-seal does not evaluate Jsonnet,
/// and the discovery pass that decides whether a deployed directory is an environment dropped
/// the "not modelled" problem the generated kustomization carried, so the directory built to
/// nothing, held "no secret" and was never checked at all. Now it is an environment whose
/// `overlay-not-modelled` finding names the Jsonnet file.
#[test]
fn an_argo_directory_of_jsonnet_only_is_reported_not_passed_over() {
    let r = Repo::new();
    r.write("argocd/web.yaml", &argo("apps/web", ""));
    r.write(
        "apps/web/main.jsonnet",
        "{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web' }, stringData: { T: std.extVar('t') } }\n",
    );
    let (_, hits) = r.check(&[]);
    assert!(
        hits.iter().any(|h| h.rule == "overlay-not-modelled"
            && h.path == "apps/web/main.jsonnet"
            && h.message.contains("Jsonnet")),
        "{hits:?}"
    );
}

/// The Flux `GitRepository` `flux-system` the Kustomizations of these tests deploy from, with
/// `ignore` as its `spec.ignore` block (each line indented by four) when not empty.
fn git_repository(ignore: &str) -> String {
    let mut s = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://example.org/fleet.git\n".to_owned();
    if !ignore.is_empty() {
        s.push_str("  ignore: |\n");
        for l in ignore.lines() {
            s.push_str(&format!("    {l}\n"));
        }
    }
    s
}

/// The hits of `rule` as (file, line).
fn at(hits: &[Hit], rule: &str) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = hits
        .iter()
        .filter(|h| h.rule == rule)
        .map(|h| (h.path.clone(), h.line))
        .collect();
    v.sort();
    v
}

/// Writes a Flux Kustomization deploying `apps/base`, whose kustomization lists `sealed.yaml`
/// and, at line 3, `extra.yaml` (a ConfigMap `two`).
fn flux_base_with_extra(r: &Repo) {
    r.write("clusters/prod/apps.yaml", &flux("./apps/base"));
    r.write(
        "apps/base/kustomization.yaml",
        "resources:\n  - sealed.yaml\n  - extra.yaml\n",
    );
    r.write("apps/base/sealed.yaml", &sealed());
    r.write("apps/base/extra.yaml", &config_map("two"));
}

/// Asserts the one `overlay-build-error` is at line 3 of `apps/base/kustomization.yaml`, and
/// returns it.
fn build_error_at_line_3(hits: &[Hit]) -> &Hit {
    assert_eq!(
        at(hits, "overlay-build-error"),
        [("apps/base/kustomization.yaml".to_owned(), 3)],
        "{hits:?}"
    );
    hits.iter()
        .find(|h| h.rule == "overlay-build-error")
        .unwrap()
}

/// A `.sourceignore` file that leaves the SealedSecret of a plain Flux directory out of the
/// artifact (fluxcd/pkg `sourceignore/sourceignore.go`, `LoadIgnorePatterns`: patterns relative
/// to the file's directory): Flux's generated kustomization does not list it, so it is not
/// deployed, and the Deployment reading it refers to a Secret nothing renders. The file is read
/// as source-controller reads it: no `overlay-not-modelled` for it.
#[test]
fn a_sourceignore_leaves_a_plain_directory_s_file_out_of_what_flux_deploys() {
    let r = flux_repo();
    let (_, before) = r.check(&[]);
    assert_eq!(at(&before, "dangling-reference"), []);
    r.track(
        "apps/prod/.sourceignore",
        "# sealed elsewhere\nsealedsecret.yaml\n",
    );
    let (_, hits) = r.check(&[]);
    assert!(
        at(&hits, "dangling-reference")
            .iter()
            .any(|(file, _)| file == "apps/prod/deployment.yaml"),
        "{hits:?}"
    );
    assert_eq!(at(&hits, "overlay-not-modelled"), []);
    // The same pattern in a sibling directory's file does not reach `apps/prod`.
    let r = flux_repo();
    r.track("apps/staging/.sourceignore", "sealedsecret.yaml\n");
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "dangling-reference"), []);
}

/// A Flux-deployed kustomization whose resource the artifact leaves out: Flux's build does not
/// find the file, an `overlay-build-error` at the line naming it; by a `.sourceignore` file and
/// by the `GitRepository`'s `spec.ignore`. A pattern with a character class is not replayed: an
/// `overlay-not-modelled` at its line.
#[test]
fn an_ignored_resource_of_a_flux_kustomization_is_a_build_error_at_its_line() {
    let r = Repo::new();
    flux_base_with_extra(&r);
    r.write("clusters/prod/source.yaml", &git_repository(""));
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), []);
    r.track(".sourceignore", "apps/base/extra.yaml\n");
    let (_, hits) = r.check(&[]);
    let h = build_error_at_line_3(&hits);
    assert!(h.message.contains(".sourceignore:1"), "{}", h.message);

    let r = Repo::new();
    flux_base_with_extra(&r);
    r.write(
        "clusters/prod/source.yaml",
        &git_repository("/docs\n/apps/base/extra.yaml\n[xy].yaml"),
    );
    let (_, hits) = r.check(&[]);
    build_error_at_line_3(&hits);
    assert_eq!(
        at(&hits, "overlay-not-modelled"),
        [("clusters/prod/source.yaml".to_owned(), 12)]
    );
}

/// Any ignore pattern drops source-controller's default exclusions but `ExcludeVCS`
/// (source-controller's `SourceIgnoreFilter`): with a `spec.ignore`, a `.sops.yaml` is in the
/// artifact, Flux's generated kustomization lists it, and it does not decode as Kubernetes
/// objects: a build error at it. Without one, it is left out (no finding). A `!` pattern
/// re-includes what an earlier one left out (the Flux documentation's "exclude all, include
/// the deploy directories"): no finding.
#[test]
fn an_ignore_pattern_re_includes_the_default_exclusions() {
    let r = flux_repo();
    r.write(
        "apps/prod/.sops.yaml",
        "creation_rules:\n  - age: age1xyz\n",
    );
    r.write("clusters/prod/source.yaml", &git_repository(""));
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), []);
    r.write("clusters/prod/source.yaml", &git_repository("/docs"));
    let (_, hits) = r.check(&[]);
    assert_eq!(
        at(&hits, "overlay-build-error"),
        [("apps/prod/.sops.yaml".to_owned(), 1)]
    );
    let r = flux_repo();
    r.track(".sourceignore", "/*\n!/apps/\n!/clusters/\n");
    let (_, clean) = r.check(&[]);
    let (_, plain) = flux_repo().check(&[]);
    assert_eq!(rules(&clean), rules(&plain));
    assert_eq!(at(&clean, "overlay-not-modelled"), []);
}

/// An overlay Flux and Argo CD both deploy is built with kustomize's own load restriction (the
/// stricter of the two), and Flux's artifact still leaves the ignored file out: Flux's build of
/// it fails all the same. The artifact was only consulted when Flux alone deployed the overlay.
#[test]
fn an_ignored_resource_fails_flux_also_when_argo_cd_deploys_the_overlay_too() {
    let r = Repo::new();
    flux_base_with_extra(&r);
    r.write("argocd/web.yaml", &argo("apps/base", ""));
    r.write("clusters/prod/source.yaml", &git_repository(""));
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), [], "{hits:?}");
    r.track(".sourceignore", "apps/base/extra.yaml\n");
    let (_, hits) = r.check(&[]);
    build_error_at_line_3(&hits);
}

/// source-controller archives only regular files and directories (fluxcd/source-controller
/// `internal/storage/storage.go`, `Archive`): a resource that is a symbolic link (to a file),
/// and a base reached through a linked directory, are not in the artifact, so Flux's build
/// does not find them: an `overlay-build-error` at each naming line. Argo CD and kubectl follow
/// links inside the repository: the same overlay deployed by Argo CD alone builds, as kubectl
/// builds it.
#[test]
#[cfg(unix)]
fn a_symbolic_link_is_not_in_the_flux_artifact() {
    use std::os::unix::fs::symlink;
    let files = |r: &Repo| {
        r.write(
            "apps/base/kustomization.yaml",
            "resources:\n  - sealed.yaml\n  - extra.yaml\n  - ../lib\n",
        );
        r.write("apps/base/sealed.yaml", &sealed());
        r.write("apps/base/files/extra.yaml", &config_map("two"));
        symlink("files/extra.yaml", r.root().join("apps/base/extra.yaml")).unwrap();
        r.write("shared/lib/kustomization.yaml", "resources:\n  - cm.yaml\n");
        r.write("shared/lib/cm.yaml", &config_map("three"));
        symlink("../shared/lib", r.root().join("apps/lib")).unwrap();
        // Committed links: Argo CD's clone holds them.
        common::git(r.root(), &["add", "apps/base/extra.yaml", "apps/lib"]);
    };
    let r = Repo::new();
    files(&r);
    r.write("argocd/web.yaml", &argo("apps/base", ""));
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), [], "{hits:?}");
    let rendered = common::kustomize(&r.root().join("apps/base"));
    assert!(rendered.contains("name: two") && rendered.contains("name: three"));

    let r = Repo::new();
    files(&r);
    r.write("clusters/prod/apps.yaml", &flux("./apps/base"));
    let (_, hits) = r.check(&[]);
    assert_eq!(
        at(&hits, "overlay-build-error"),
        [
            ("apps/base/kustomization.yaml".to_owned(), 3),
            ("apps/base/kustomization.yaml".to_owned(), 4)
        ],
        "{hits:?}"
    );
    let link = hits
        .iter()
        .find(|h| h.rule == "overlay-build-error" && h.line == 4)
        .unwrap();
    assert!(
        link.message.contains("symbolic link apps/lib"),
        "{}",
        link.message
    );
}

/// A Flux clone holds only committed files: an untracked `.sourceignore` leaves nothing out (it
/// was read by a walk of the working tree); once tracked, it does.
#[test]
fn only_a_tracked_sourceignore_leaves_files_out() {
    let r = Repo::new();
    flux_base_with_extra(&r);
    r.write_untracked("apps/.sourceignore", "extra.yaml\n");
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), [], "{hits:?}");
    r.track("apps/.sourceignore", "extra.yaml\n");
    let (_, hits) = r.check(&[]);
    build_error_at_line_3(&hits);
}

/// A pattern the model cannot replay is the run's gap, not each overlay's: one
/// `overlay-not-modelled` at its line, however many Flux overlays are built from the artifact.
/// The Kustomizations whose `GitRepository` is not in the repository get one note for it
/// saying its `spec.ignore` is not known.
#[test]
fn an_unreplayed_pattern_is_reported_once_and_an_unknown_source_is_noted() {
    let r = Repo::new();
    for env in ["prod", "staging"] {
        let flux = flux(&format!("./apps/{env}")).replace("name: apps", &format!("name: {env}"));
        r.write(&format!("clusters/{env}.yaml"), &flux);
        r.write(
            &format!("apps/{env}/kustomization.yaml"),
            "resources:\n  - sealed.yaml\n",
        );
        r.write(
            &format!("apps/{env}/sealed.yaml"),
            &sealed().replace("prod", env),
        );
    }
    let out = r.run(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    // One note for the source, naming both Kustomizations.
    let notes: Vec<&str> = (err.lines())
        .filter(|l| l.contains("which is not in this repository"))
        .collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(
        notes[0].contains("2 Flux Kustomizations in clusters/prod.yaml:")
            && notes[0].contains(", clusters/staging.yaml:")
            && notes[0].contains("deploy from the GitRepository `flux-system` (namespace `flux-system`), which is not in this repository"),
        "{err}"
    );
    r.write("clusters/source.yaml", &git_repository("[xy].yaml"));
    let (_, hits) = r.check(&[]);
    assert_eq!(
        at(&hits, "overlay-not-modelled"),
        [("clusters/source.yaml".to_owned(), 10)],
        "{hits:?}"
    );
    let out = r.run(&["check"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("which is not in this repository"));
}

/// A Flux Kustomization whose path goes through a symbolic link deploys nothing: the artifact
/// holds no link (kustomize-controller fails with "kustomization path not found"), so the path
/// names no environment and a note says why. Argo CD follows the link to the same directory.
#[test]
fn a_flux_path_through_a_symbolic_link_names_no_environment() {
    let tree = |deploy: &str| {
        let r = Repo::new();
        r.write(
            "apps/base/kustomization.yaml",
            "resources:\n  - sealed.yaml\n",
        );
        r.write("apps/base/sealed.yaml", &sealed());
        std::os::unix::fs::symlink("base", r.root().join("apps/prod")).unwrap();
        r.write("deploy/prod.yaml", deploy);
        r
    };
    let note = "deploys `./apps/prod`, but that directory, apps/prod, is a symbolic link";
    let r = tree(&flux("./apps/prod"));
    let out = r.run(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no environment") && err.contains("deploy/prod.yaml:8"),
        "{err}"
    );
    // Beside an environment that builds, the note is printed with the findings.
    r.write(
        "apps/staging/kustomization.yaml",
        "resources:\n  - sealed.yaml\n",
    );
    r.write(
        "apps/staging/sealed.yaml",
        &sealed().replace("prod", "staging"),
    );
    let staging = flux("./apps/staging").replace("name: apps", "name: staging");
    r.write("deploy/staging.yaml", &staging);
    let out = r.run(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(note), "{err}");
    // A link above the deployed directory is named as such, apart from the path.
    r.write("apps/base/sub/kustomization.yaml", "resources: []\n");
    r.write(
        "deploy/sub.yaml",
        &flux("./apps/prod/sub").replace("name: apps", "name: sub"),
    );
    let err = String::from_utf8_lossy(&r.run(&["check"]).stderr).into_owned();
    let above =
        "deploys `./apps/prod/sub`, but the directory apps/prod on its way is a symbolic link";
    assert!(err.contains(above), "{err}");

    let r = tree(&argo("./apps/prod", ""));
    let (code, hits) = r.check(&[]);
    assert_eq!(code, 1, "{hits:?}");
    assert!(
        hits.iter()
            .any(|h| h.rule == "placeholder-ciphertext" && h.path == "apps/base/sealed.yaml"),
        "{hits:?}"
    );
}

/// "No environment" lists the Flux Kustomizations whose `GitRepository` is not in this
/// repository among its notes; a `GitRepository` without `spec.url` (Flux's CRD requires one, but
/// it is in the repository) is a known source, whose Kustomizations get no such note.
#[test]
fn no_environment_lists_unknown_sources_and_a_source_without_url_is_known() {
    let r = Repo::new();
    r.write("clusters/apps.yaml", &flux("./apps/prod"));
    r.write("apps/prod/README.md", "# nothing to deploy\n");
    let out = r.run(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no environment under"), "{err}");
    assert!(
        err.contains("Flux Kustomizations deploying from a GitRepository not in this repository: clusters/apps.yaml:8"),
        "{err}"
    );
    r.write(
        "clusters/source.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n",
    );
    let out = r.run(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no environment under"), "{err}");
    assert!(
        !err.contains("GitRepository not in this repository"),
        "{err}"
    );
}

/// A repository of its own at `<dir>/lib-source`, committed, holding `files`, added as the git
/// submodule `lib` of `r` (staged).
fn add_submodule(r: &Repo, dir: &Path, files: &[(&str, &str)]) {
    let source = dir.join("lib-source");
    for (rel, text) in files {
        common::write(&source, rel, text);
    }
    common::git(&source, &["init", "-q"]);
    common::git(&source, &["add", "-A"]);
    common::git(&source, &["commit", "-qm", "lib"]);
    let url = source.to_str().unwrap();
    let add = ["-c", "protocol.file.allow=always", "submodule", "add", "-q"];
    common::git(r.root(), &[&add[..], &[url, "lib"]].concat());
}

/// A Flux-only overlay whose resource is in the git submodule `lib`, from a `GitRepository` of
/// the repository with `recurse` lines added to its `spec`.
fn with_submodule_resource(recurse: &str, lib_ignore: Option<&str>) -> (Repo, tempfile::TempDir) {
    let r = Repo::new();
    let outside = tempfile::tempdir().unwrap();
    let mut files = vec![("extra.yaml", config_map("two"))];
    if let Some(ignore) = lib_ignore {
        files.push((".sourceignore", ignore.to_owned()));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
    add_submodule(&r, outside.path(), &files);
    r.write("clusters/prod/apps.yaml", &flux("./apps/base"));
    r.write(
        "apps/base/kustomization.yaml",
        "resources:\n  - sealed.yaml\n  - ../../lib/extra.yaml\n",
    );
    r.write("apps/base/sealed.yaml", &sealed());
    r.write(
        "clusters/prod/source.yaml",
        &format!("{}{recurse}", git_repository("")),
    );
    (r, outside)
}

/// source-controller clones a `GitRepository`'s submodules only with `spec.recurseSubmodules:
/// true` (default false: fluxcd/source-controller `api/v1/gitrepository_types.go`): without
/// it, a resource inside a submodule is not in the artifact, and Flux's build does not find
/// it: an `overlay-build-error` at the line naming it, saying why. With it, the overlay builds
/// (as `kubectl kustomize` builds it with Flux's load restrictor). Both used to build.
#[test]
fn a_resource_in_a_submodule_is_in_the_flux_artifact_only_with_recurse_submodules() {
    let (r, _outside) = with_submodule_resource("", None);
    let (_, hits) = r.check(&[]);
    let h = build_error_at_line_3(&hits);
    assert!(h.message.contains("git submodule lib"), "{}", h.message);
    assert!(h.message.contains("recurseSubmodules"), "{}", h.message);

    let (r, _outside) = with_submodule_resource("  recurseSubmodules: true\n", None);
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), [], "{hits:?}");
    // Flux's build: no load restrictor (fluxcd/pkg `kustomize/kustomize_generator.go`).
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(r.root().join("apps/base"))
        .args(["--load-restrictor", "LoadRestrictionsNone"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("name: two"));
}

/// With `spec.recurseSubmodules: true`, source-controller's `LoadIgnorePatterns` walks the
/// checked-out submodules too (fluxcd/pkg `sourceignore/sourceignore.go`): a `.sourceignore`
/// committed in the submodule leaves its file out of the artifact, an `overlay-build-error`
/// naming that file's pattern. It used not to be read (only the top repository's tracked ignore
/// files were).
#[test]
fn a_sourceignore_inside_a_recursed_submodule_leaves_files_out() {
    let (r, _outside) =
        with_submodule_resource("  recurseSubmodules: true\n", Some("extra.yaml\n"));
    let (_, hits) = r.check(&[]);
    let h = build_error_at_line_3(&hits);
    assert!(
        h.message.contains("`extra.yaml` at lib/.sourceignore:1"),
        "{}",
        h.message
    );
}

/// Argo CD and Flux build from a clone of the repository's commits (argo-cd
/// `reposerver/repository/repository.go`, fluxcd/source-controller
/// `internal/controller/gitrepository_controller.go`): a resource, or a component's
/// kustomization file, that git does not track (untracked, or ignored) is not there, and the
/// sync fails: an `overlay-build-error` at the line naming it. A real env file stays out of git,
/// its `.example` standing in: no finding. Once tracked, the overlay is clean.
#[test]
fn a_file_git_does_not_track_fails_argo_cd_and_flux() {
    let r = Repo::new();
    r.track("argocd/web.yaml", &argo("apps/web", ""));
    r.track(
        "apps/web/kustomization.yaml",
        "resources:\n  - cm.yaml\n  - extra.yaml\ncomponents:\n  - ../comp\nsecretGenerator:\n  - name: app\n    envs:\n      - app.env\n",
    );
    r.track("apps/web/cm.yaml", &config_map("one"));
    r.write_untracked("apps/web/extra.yaml", &config_map("two"));
    r.track("apps/web/app.env.example", "A=\n");
    r.write_untracked("apps/web/app.env", "A=1\n");
    r.write_untracked(
        "apps/comp/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {team: web}\n",
    );
    r.track(".gitignore", "*.env\napps/comp/\n");
    let (_, hits) = r.check(&[]);
    let errors = at(&hits, "overlay-build-error");
    assert_eq!(
        errors,
        [
            ("apps/web/kustomization.yaml".to_owned(), 3),
            ("apps/web/kustomization.yaml".to_owned(), 5)
        ],
        "{hits:?}"
    );
    let msgs: Vec<&str> = (hits.iter())
        .filter(|h| h.rule == "overlay-build-error")
        .map(|h| h.message.as_str())
        .collect();
    assert!(
        msgs[0].contains("extra.yaml is not tracked by git (it is untracked)"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("apps/comp/kustomization.yaml is ignored"),
        "{msgs:?}"
    );

    // Deployed by Flux alone: the same.
    std::fs::remove_file(r.root().join("argocd/web.yaml")).unwrap();
    common::git(r.root(), &["rm", "-q", "--cached", "argocd/web.yaml"]);
    r.track("clusters/prod/apps.yaml", &flux("./apps/web"));
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), errors, "{hits:?}");

    r.track(".gitignore", "*.env\n");
    r.track("apps/web/extra.yaml", &config_map("two"));
    r.track(
        "apps/comp/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {team: web}\n",
    );
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), [], "{hits:?}");
}

/// git lists a symbolic link as itself: a resource read through a symlinked directory git does
/// not track is not in the clone Argo CD builds from (it follows links inside the repository,
/// argo-cd `reposerver/repository/repository.go`), even though the file the link leads to is
/// tracked: an `overlay-build-error` at the line naming it, and no `untracked-build-input` on
/// top (the refusal is the more specific finding). It used to be taken as committed. So is a
/// tracked link to a file git does not track. Once the link, and the file, are tracked, clean.
#[test]
fn a_resource_read_through_an_untracked_link_fails_argo_cd() {
    let r = Repo::new();
    r.track("argocd/web.yaml", &argo("apps/web", ""));
    r.track(
        "apps/web/kustomization.yaml",
        "resources:\n  - sealed.yaml\n  - linked/cm.yaml\n  - ln.yaml\n",
    );
    r.track("apps/web/sealed.yaml", &sealed());
    r.track("apps/web/data/cm.yaml", &config_map("one"));
    std::os::unix::fs::symlink("data", r.root().join("apps/web/linked")).unwrap();
    r.write_untracked("apps/web/real.yaml", &config_map("two"));
    std::os::unix::fs::symlink("real.yaml", r.root().join("apps/web/ln.yaml")).unwrap();
    common::git(r.root(), &["add", "apps/web/ln.yaml"]);
    // kubectl follows both links: the working tree builds.
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(r.root().join("apps/web"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (_, hits) = r.check(&[]);
    let errors = at(&hits, "overlay-build-error");
    let k = "apps/web/kustomization.yaml".to_owned();
    assert_eq!(errors, [(k.clone(), 3), (k, 4)], "{hits:?}");
    let msgs: Vec<&str> = (hits.iter())
        .filter(|h| h.rule == "overlay-build-error")
        .map(|h| h.message.as_str())
        .collect();
    assert!(
        msgs[0].contains("through the symbolic link `apps/web/linked`, which git does not track"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("leads to `apps/web/real.yaml`, which git does not track"),
        "{msgs:?}"
    );
    assert_eq!(at(&hits, "untracked-build-input"), [], "{hits:?}");

    common::git(r.root(), &["add", "apps/web/linked", "apps/web/real.yaml"]);
    let (_, hits) = r.check(&[]);
    assert_eq!(at(&hits, "overlay-build-error"), [], "{hits:?}");
    assert_eq!(at(&hits, "untracked-build-input"), [], "{hits:?}");
}

/// Flux's generated kustomization lists the YAML files of the artifact, a clone of a commit:
/// an untracked (or ignored) `.yaml` file under the path is not there, so one that is no
/// Kubernetes object fails nothing (it used to be listed, and failed the model's build); once
/// tracked, it fails the build at that file.
#[test]
fn flux_s_generated_kustomization_lists_no_untracked_file() {
    let r = flux_repo();
    r.write_untracked("apps/prod/nested/values.yaml", "replicas: 3\n");
    r.write_untracked("apps/prod/local.yaml", "replicas: 4\n");
    r.track(".gitignore", "local.yaml\n");
    let (_, hits) = r.check(&[]);
    assert!(!rules(&hits).contains(&"overlay-build-error"), "{hits:?}");

    r.track("apps/prod/nested/values.yaml", "replicas: 3\n");
    let (_, hits) = r.check(&[]);
    let errors = at(&hits, "overlay-build-error");
    assert_eq!(
        errors,
        [("apps/prod/nested/values.yaml".to_owned(), 1)],
        "{hits:?}"
    );

    // An Argo CD directory source walks a clone too: an untracked copy of a tracked ConfigMap
    // (the same object twice fails the build) is not in it.
    let r = Repo::new();
    r.track("argocd/web.yaml", &argo("apps/web", ""));
    r.track("apps/web/sealedsecret.yaml", &sealed());
    r.track("apps/web/cm.yaml", &config_map("one"));
    r.write_untracked("apps/web/copy.yaml", &config_map("one"));
    let (_, hits) = r.check(&[]);
    assert!(at(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    r.track("apps/web/copy.yaml", &config_map("one"));
    let (_, hits) = r.check(&[]);
    assert!(!at(&hits, "overlay-build-error").is_empty(), "{hits:?}");
}

/// An overlay Argo CD or Flux deploys whose own kustomization file git does not track is not in
/// their clone: an `overlay-build-error` at each deploying object's `path` line (it used to pass
/// unreported), and no `untracked-build-input` for the same file (it used to be both). Tracked,
/// the overlay is clean.
#[test]
fn an_untracked_kustomization_of_a_deployed_overlay_is_a_build_error_at_the_path_line() {
    let r = Repo::new();
    r.track("argocd/web.yaml", &argo("apps/web", ""));
    r.track("clusters/prod/apps.yaml", &flux("./apps/web"));
    r.track("apps/web/sealedsecret.yaml", &sealed());
    let kustomization = "resources:\n  - sealedsecret.yaml\n";
    r.write_untracked("apps/web/kustomization.yaml", kustomization);
    let (_, hits) = r.check(&[]);
    let want = [
        (
            "argocd/web.yaml".to_owned(),
            common::line_of(r.root(), "argocd/web.yaml", "path: apps/web"),
        ),
        (
            "clusters/prod/apps.yaml".to_owned(),
            common::line_of(r.root(), "clusters/prod/apps.yaml", "path: ./apps/web"),
        ),
    ];
    assert_eq!(at(&hits, "overlay-build-error"), want, "{hits:?}");
    assert_eq!(at(&hits, "untracked-build-input"), [], "{hits:?}");
    let msgs: Vec<&str> = (hits.iter())
        .filter(|h| h.rule == "overlay-build-error")
        .map(|h| h.message.as_str())
        .collect();
    assert!(
        msgs.iter().all(|m| m.contains(
            "kustomization file apps/web/kustomization.yaml is not tracked by git (it is untracked)"
        )),
        "{msgs:?}"
    );

    r.track("apps/web/kustomization.yaml", kustomization);
    let (_, hits) = r.check(&[]);
    assert!(at(&hits, "overlay-build-error").is_empty(), "{hits:?}");
}

/// A plaintext Secret in a file git neither tracks nor ignores that an environment's build
/// reads is one `git add .` away from being committed and deployed: a `plaintext-secret`
/// warning at its `stringData` (it used to be skipped as untracked, silently). One the build
/// does not read is not; nor is one git ignores (the local-file convention). Deployed by
/// Argo CD, the build fails on the file as well (`overlay-build-error`); the plaintext is still
/// said.
#[test]
fn an_untracked_plaintext_secret_a_build_reads_is_a_warning() {
    let r = Repo::new();
    let secret = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: prod\nstringData:\n  password: hunter2-correct-horse\n"
        )
    };
    r.track(
        "k8s/overlays/dev/kustomization.yaml",
        "resources:\n  - cm.yaml\n  - secret.yaml\n",
    );
    r.track("k8s/overlays/dev/cm.yaml", &config_map("one"));
    r.write_untracked("k8s/overlays/dev/secret.yaml", &secret("db"));
    r.write_untracked("k8s/overlays/dev/unused.yaml", &secret("unused"));
    let line = common::line_of(r.root(), "k8s/overlays/dev/secret.yaml", "stringData:");
    let (_, hits) = r.check(&[]);
    let found: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "plaintext-secret")
        .collect();
    assert_eq!(found.len(), 1, "{hits:?}");
    assert_eq!(
        (
            found[0].path.as_str(),
            found[0].line,
            found[0].severity.as_str()
        ),
        ("k8s/overlays/dev/secret.yaml", line, "warning"),
        "{hits:?}"
    );
    assert!(!found[0].message.contains("hunter2"), "{hits:?}");

    r.track("argocd/web.yaml", &argo("k8s/overlays/dev", ""));
    let (_, hits) = r.check(&[]);
    assert_eq!(
        at(&hits, "plaintext-secret"),
        [("k8s/overlays/dev/secret.yaml".to_owned(), line)],
        "{hits:?}"
    );
    let errors = at(&hits, "overlay-build-error");
    let naming = common::line_of(
        r.root(),
        "k8s/overlays/dev/kustomization.yaml",
        "secret.yaml",
    );
    assert_eq!(
        errors,
        [("k8s/overlays/dev/kustomization.yaml".to_owned(), naming)],
        "{hits:?}"
    );

    r.track(".gitignore", "secret.yaml\n");
    let (_, hits) = r.check(&[]);
    assert!(at(&hits, "plaintext-secret").is_empty(), "{hits:?}");
}

/// The same for a directory without a kustomization file that Flux or Argo CD deploys: the
/// generated kustomization lists only tracked files, so an untracked plaintext Secret there is
/// not built, but it is deployed as soon as it is committed: a `plaintext-secret` warning at its
/// `stringData` (it went unreported). One the tool would not list (Argo CD without `recurse`
/// reads no sub-directory) is not, nor is one git ignores.
#[test]
fn an_untracked_plaintext_secret_in_a_deployed_plain_directory_is_a_warning() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  password: hunter2-correct-horse\n";
    for (deploy, dir, object, recursed) in [
        (
            "clusters/prod/apps.yaml",
            "apps/prod",
            flux("./apps/prod"),
            true,
        ),
        ("argocd/web.yaml", "apps/web", argo("apps/web", ""), false),
    ] {
        let r = Repo::new();
        r.track(deploy, &object);
        r.track(&format!("{dir}/sealedsecret.yaml"), &sealed());
        r.track(&format!("{dir}/cm.yaml"), &config_map("one"));
        let (top, nested) = (
            format!("{dir}/secret.yaml"),
            format!("{dir}/nested/secret.yaml"),
        );
        r.write_untracked(&top, secret);
        r.write_untracked(&nested, secret);
        let line = common::line_of(r.root(), &top, "stringData:");
        let (_, hits) = r.check(&[]);
        let mut want = vec![(top.clone(), line)];
        if recursed {
            want.insert(0, (nested.clone(), line));
        }
        assert_eq!(at(&hits, "plaintext-secret"), want, "{deploy}: {hits:?}");
        let found = hits.iter().filter(|h| h.rule == "plaintext-secret");
        assert!(
            found
                .clone()
                .all(|h| h.severity == "warning" && !h.message.contains("hunter2")),
            "{hits:?}"
        );
        assert!(at(&hits, "overlay-build-error").is_empty(), "{hits:?}");

        r.track(".gitignore", "secret.yaml\n");
        let (_, hits) = r.check(&[]);
        assert!(at(&hits, "plaintext-secret").is_empty(), "{hits:?}");
    }
}

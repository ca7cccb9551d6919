//! Flux builds every Kustomization's path with kustomize's load restrictor off
//! (`LoadRestrictionsNone`), on a file system confined to the source artifact's root, this
//! repository (fluxcd/pkg `kustomize/kustomize_generator.go`, `SecureBuild` and `Build`). An
//! overlay only Flux Kustomizations deploy may therefore read files outside its own directory
//! (an env file in a sibling directory, a patch elsewhere, a resource file one level up), but
//! nothing outside the repository. An overlay nothing deploys, or one Argo CD deploys too, is
//! built with kustomize's default (`LoadRestrictionsRootOnly`), as `kubectl kustomize` builds it.
//!
//! Oracles: the real `kubectl kustomize`, with `--load-restrictor LoadRestrictionsNone` for
//! what Flux loads and without it for what kustomize's default refuses; `check --render` compares
//! the model with the render of the one the overlay's deployers use.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Output;

use crate::common::{self, Hit, line_of, of};
use crate::seal_support::{emp_seal_cmd, env_text, env_values};

/// The overlay every case builds.
const OVERLAY: &str = "apps/prod";

/// A temporary git repository at `<tmp>/repo` that ignores `*.env`, with room beside it
/// (`<tmp>/outside`) for files outside the repository.
struct Repo {
    tmp: tempfile::TempDir,
}

impl Repo {
    fn empty() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let r = Repo { tmp };
        std::fs::create_dir_all(r.root()).unwrap();
        common::git(&r.root(), &["init", "-q"]);
        r.write(".gitignore", "*.env\n");
        r
    }

    fn root(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }

    /// `<tmp>/outside`: beside the repository, not in it.
    fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside")
    }

    /// Writes `text` to `rel` under the repository (creating directories).
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        common::write(&self.root(), rel, text)
    }

    /// Runs `emp-seal -C ROOT ARGS`.
    fn run(&self, args: &[&str]) -> Output {
        let mut c = emp_seal_cmd();
        c.arg("-C").arg(self.root()).args(args);
        c.output().unwrap()
    }

    fn check(&self, args: &[&str]) -> (i32, Vec<Hit>) {
        common::check_hits(&self.root(), args)
    }
}

/// A Flux Kustomization deploying `./apps/prod` from this repository's `GitRepository`.
const FLUX: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";

/// An Argo CD Application deploying `apps/prod` into `prod`.
const ARGO: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: prod\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/apps.git\n    targetRevision: main\n    path: apps/prod\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: prod\n";

/// The overlay's kustomization: a Deployment of its own, a resource file one level up, a patch
/// in a directory at the top of the repository, and a Secret generated from an env file in a
/// sibling directory.
const KUSTOMIZATION: &str = "namespace: prod\nresources:\n  - deployment.yaml\n  - ../config.yaml\npatches:\n  - path: ../../patches/replicas.yaml\nsecretGenerator:\n  - name: app-secrets\n    envs:\n      - ../shared/app.env\n";

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n      containers:\n        - name: app\n          image: app:1\n          env:\n            - name: KEY\n              valueFrom:\n                secretKeyRef:\n                  name: app-secrets\n                  key: API_KEY\n          envFrom:\n            - configMapRef:\n                name: settings\n";

/// The tree: the overlay reading three files outside its own directory, all inside the
/// repository; the env file absent, its `.example` tracked (everything is staged). Deployed by the Flux Kustomization
/// when `flux`.
fn tree(flux: bool) -> Repo {
    let r = Repo::empty();
    if flux {
        r.write("clusters/prod/apps.yaml", FLUX);
    }
    r.write("apps/prod/kustomization.yaml", KUSTOMIZATION);
    r.write("apps/prod/deployment.yaml", DEPLOYMENT);
    r.write(
        "apps/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  MODE: prod\n",
    );
    r.write(
        "patches/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 3\n",
    );
    r.write("apps/shared/app.env.example", "API_KEY=\n");
    common::git(&r.root(), &["add", "-A"]);
    r
}

/// `kubectl kustomize [--load-restrictor LoadRestrictionsNone] DIR` (repo-relative) on a copy
/// of the repository whose env files are filled from their examples (or on the repository
/// itself when `in_place`): `Ok(render)` or `Err(stderr)`. `None` when kubectl is missing
/// outside CI.
fn kubectl(r: &Repo, unrestricted: bool, in_place: bool) -> Option<Result<String, String>> {
    common::kubectl()?;
    let copy = tempfile::tempdir().unwrap();
    let root = if in_place {
        r.root()
    } else {
        common::copy_dir(&r.root(), copy.path());
        let example = copy.path().join("apps/shared/app.env.example");
        std::fs::copy(&example, copy.path().join("apps/shared/app.env")).unwrap();
        copy.path().to_path_buf()
    };
    let mut c = std::process::Command::new("kubectl");
    c.arg("kustomize").arg(root.join(OVERLAY));
    if unrestricted {
        c.args(["--load-restrictor", "LoadRestrictionsNone"]);
    }
    let out = c.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Some(if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    })
}

/// The `overlay-build-error` findings kustomize's default restrictor gives the tree: one per
/// file outside the overlay's directory, at the entry naming it.
fn root_only_refusals(r: &Repo, hits: &[Hit]) {
    let mut got: Vec<(String, u64)> = of(hits, "overlay-build-error")
        .iter()
        .inspect(|h| assert!(h.message.contains("is not in or below apps/prod"), "{h:?}"))
        .map(|h| (h.path.clone(), h.line))
        .collect();
    got.sort();
    let k = "apps/prod/kustomization.yaml";
    let mut want: Vec<(String, u64)> = ["../config.yaml", "replicas.yaml", "app.env"]
        .iter()
        .map(|n| (k.to_owned(), line_of(&r.root(), k, n)))
        .collect();
    want.sort();
    assert_eq!(got, want, "{hits:?}");
}

/// Deployed only by the Flux Kustomization, the overlay reading an env file in a sibling
/// directory, a patch at the top of the repository and a resource file one level up builds (it
/// was an `overlay-build-error` for each), and `check --render` renders it as Flux builds it
/// (`--load-restrictor LoadRestrictionsNone`) and finds the model the same (no `render-failed`,
/// no `model-divergence`): from a temporary copy while the env file is absent, in place once it
/// is there. kubectl with the flag builds it, with the objects the three files give; without
/// the flag it refuses.
#[test]
fn a_flux_only_overlay_reads_files_of_the_repository_outside_its_directory() {
    let r = tree(true);
    let (code, hits) = r.check(&[]);
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    assert_eq!(code, 0, "{hits:?}");
    let Some(render) = kubectl(&r, true, false) else {
        return;
    };
    let render = render.unwrap();
    for needle in [
        "replicas: 3",
        "name: settings",
        "API_KEY:",
        "name: app-secrets-",
    ] {
        assert!(render.contains(needle), "{needle}: {render}");
    }
    let refused = kubectl(&r, false, false).unwrap().unwrap_err();
    assert!(refused.contains("is not in or below"), "{refused}");

    let (code, hits) = r.check(&["--render=always"]);
    assert!(of(&hits, "render-failed").is_empty(), "{hits:?}");
    assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");
    assert_eq!(code, 0, "{hits:?}");
    r.write("apps/shared/app.env", "API_KEY=not-shown\n");
    let (code, hits) = r.check(&["--render=always"]);
    assert!(of(&hits, "render-failed").is_empty(), "{hits:?}");
    assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");
    assert_eq!(code, 0, "{hits:?}");
}

/// The same overlay with no Flux Kustomization deploying it (found by the graph), or with an
/// Argo CD Application deploying it as well, is built with kustomize's default restrictor: each
/// of the three files is an `overlay-build-error`, and `check --render` renders it without the
/// flag, which kubectl refuses too (`render-failed`, no `model-divergence`).
#[test]
fn the_same_overlay_without_only_flux_deploying_it_is_refused() {
    let alone = tree(false);
    let both = tree(true);
    both.write("argocd/prod.yaml", ARGO);
    for r in [&alone, &both] {
        let (code, hits) = r.check(&[]);
        root_only_refusals(r, &hits);
        assert_eq!(code, 1, "{hits:?}");
        let Some(refused) = kubectl(r, false, false) else {
            return;
        };
        assert!(refused.unwrap_err().contains("is not in or below"));
        let (_, hits) = r.check(&["--render=always"]);
        let failed = of(&hits, "render-failed");
        assert_eq!(failed.len(), 1, "{hits:?}");
        assert!(
            failed[0].message.contains("`kubectl kustomize apps/prod`"),
            "{hits:?}"
        );
        assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");
    }
}

/// Flux confines the build to the repository: an env file outside it, a link in it leading out
/// of it, and a base directory outside it are each an `overlay-build-error` saying so. kubectl
/// with `--load-restrictor LoadRestrictionsNone` has no such bound and builds it, so
/// `check --render` does not run it for this overlay: a `render-failed` saying why, and no
/// `model-divergence` from a render that Flux's build is not.
#[test]
fn a_flux_only_overlay_reading_outside_the_repository_is_refused() {
    let r = tree(true);
    let outside = r.outside();
    common::write(&outside, "app.env", "OUT_KEY=x\n");
    common::write(&outside, "linked.env", "LINKED_KEY=x\n");
    common::write(
        &outside,
        "base/kustomization.yaml",
        "resources:\n  - cm.yaml\n",
    );
    common::write(
        &outside,
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outer\n",
    );
    std::os::unix::fs::symlink(
        outside.join("linked.env"),
        r.root().join("apps/shared/linked.env"),
    )
    .unwrap();
    r.write("apps/shared/app.env", "API_KEY=x\n");
    let k = KUSTOMIZATION
        .replace(
            "  - ../config.yaml\n",
            "  - ../config.yaml\n  - ../../../outside/base\n",
        )
        .replace(
            "      - ../shared/app.env\n",
            "      - ../shared/app.env\n      - ../../../outside/app.env\n      - ../shared/linked.env\n",
        );
    r.write("apps/prod/kustomization.yaml", &k);

    let (code, hits) = r.check(&[]);
    let errors = of(&hits, "overlay-build-error");
    let kfile = "apps/prod/kustomization.yaml";
    for (entry, what) in [
        ("outside/base", ": directory "),
        ("outside/app.env", ": file "),
        ("linked.env", ": file "),
    ] {
        let line = line_of(&r.root(), kfile, entry);
        let found = errors
            .iter()
            .find(|h| h.path == kfile && h.line == line)
            .unwrap_or_else(|| panic!("{entry}: {hits:?}"));
        assert!(found.message.contains(what), "{found:?}");
        assert!(
            found.message.contains("is outside the repository"),
            "{found:?}"
        );
        assert!(
            found.message.contains("confined to their source's root"),
            "{found:?}"
        );
    }
    let link = errors
        .iter()
        .find(|h| h.message.contains("linked.env"))
        .unwrap();
    assert!(link.message.contains("(a link to "), "{link:?}");
    assert_eq!(errors.len(), 3, "{hits:?}");
    assert_eq!(code, 1, "{hits:?}");

    // kubectl loads all three with the flag: it cannot stand for Flux here.
    let Some(render) = kubectl(&r, true, true) else {
        return;
    };
    let render = render.unwrap();
    for needle in ["OUT_KEY:", "LINKED_KEY:", "name: outer"] {
        assert!(render.contains(needle), "{needle}: {render}");
    }
    let (_, hits) = r.check(&["--render=always"]);
    let failed = of(&hits, "render-failed");
    assert_eq!(failed.len(), 1, "{hits:?}");
    // Nothing was run, so nothing failed: the message says it was not run.
    assert!(failed[0].message.contains("` was not run: "), "{hits:?}");
    assert!(!failed[0].message.contains("failed"), "{hits:?}");
    // Nothing was run: the hint says to move the file in, not to run a command again.
    assert!(failed[0].hint.contains("into the repository"), "{hits:?}");
    assert!(!failed[0].hint.contains("run the same command"), "{hits:?}");
    assert!(
        failed[0].message.contains("is outside the repository"),
        "{hits:?}"
    );
    assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");
}

/// `init` creates the env file in the sibling directory for the overlay only Flux deploys, from
/// its example; without the Flux Kustomization it refuses it (kustomize's default restrictor),
/// and for the Flux-only overlay it refuses one outside the repository: exit 2, nothing written.
#[test]
fn init_writes_an_env_file_outside_the_overlay_only_where_flux_loads_it() {
    let r = tree(true);
    let o = r.run(&["init", "prod", "--no-input"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let env = r.root().join("apps/shared/app.env");
    assert_eq!(std::fs::read_to_string(&env).unwrap(), "API_KEY=\n");

    let alone = tree(false);
    let o = alone.run(&["init", "prod", "--no-input"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("is not in or below apps/prod"), "{err}");
    assert!(!alone.root().join("apps/shared/app.env").exists());

    let out = tree(true);
    let k = KUSTOMIZATION.replace("../shared/app.env", "../../../outside/app.env");
    out.write("apps/prod/kustomization.yaml", &k);
    common::write(&out.outside(), "app.env.example", "API_KEY=\n");
    let o = out.run(&["init", "prod", "--no-input"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("is outside the repository"), "{err}");
    assert!(!out.outside().join("app.env").exists());
}

/// A SealedSecret `app-secrets` without a namespace, with placeholder values for the keys of
/// [`env_text`].
fn sealed_skeleton() -> String {
    let mut s = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\nspec:\n  encryptedData:\n".to_owned();
    for k in env_values().keys() {
        s.push_str(&format!("    {k}: AgAAAAAAAAAA...REPLACE_ME\n"));
    }
    s.push_str("  template:\n    metadata:\n      name: app-secrets\n");
    s
}

/// Two overlays only Flux deploys, `prod` and `staging` (in namespaces of their names), both
/// listing the SealedSecret file of `apps/shared` as a resource: a file outside both overlays'
/// directories, which Flux loads. Sealing `prod` writes values for `prod/app-secrets` that
/// `staging`'s controller cannot decrypt as `staging/app-secrets`, so `seal` refuses and
/// writes nothing: the guard looks at `staging` although the file is in none of its
/// kustomization directories (it used to skip it, kustomize's default restrictor being
/// assumed, and seal `prod` alone).
#[test]
fn sealing_a_file_another_flux_only_overlay_reads_from_elsewhere_is_guarded() {
    let r = Repo::empty();
    let cert =
        std::fs::read_to_string(common::repo_root().join("k8s/overlays/paper/sealing-cert.pem"))
            .unwrap();
    for env in ["prod", "staging"] {
        r.write(
            &format!("clusters/{env}/apps.yaml"),
            &FLUX.replace("./apps/prod", &format!("./apps/{env}")),
        );
        r.write(
            &format!("apps/{env}/kustomization.yaml"),
            &format!("namespace: {env}\nresources:\n  - ../shared/sealedsecret.yaml\n"),
        );
        r.write(&format!("apps/{env}/sealing-cert.pem"), &cert);
    }
    let sealed = r.write("apps/shared/sealedsecret.yaml", &sealed_skeleton());
    common::git(&r.root(), &["add", "-A"]);
    let before = std::fs::read_to_string(&sealed).unwrap();
    let env = tempfile::tempdir().unwrap();
    let from = common::write(env.path(), "secrets.env", &env_text());
    let o = r.run(&["seal", "prod", "--from", from.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("apps/shared/sealedsecret.yaml"), "{err}");
    assert!(err.contains("`staging`"), "{err}");
    assert_eq!(std::fs::read_to_string(&sealed).unwrap(), before);
}

/// A file read by a generator: a `files:` source (written as it is, or as a link in the
/// overlay leading out of it), or a `generators:` file (likewise), each the overlay's only
/// generator entry, in a repository with the overlay, the files in `apps/shared`, and the two
/// links in `apps/prod`. Deployed by the Flux Kustomization when `flux`.
fn generator_tree(flux: bool, kustomization: &str) -> Repo {
    let r = Repo::empty();
    if flux {
        r.write("clusters/prod/apps.yaml", FLUX);
    }
    // A Secret to check: generated from an env file in the overlay.
    let secret = "secretGenerator:\n  - name: app\n    envs:\n      - app.env\n";
    r.write(
        "apps/prod/kustomization.yaml",
        &format!("{secret}{kustomization}"),
    );
    r.write("apps/prod/app.env.example", "API_KEY=\n");
    r.write("apps/prod/app.env", "API_KEY=\n");
    r.write("apps/shared/ca.txt", "not a secret\n");
    r.write(
        "apps/shared/gen.yaml",
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: from-gen\nliterals:\n  - MODE=prod\n",
    );
    let link = |to: &str, at: &str| {
        std::os::unix::fs::symlink(to, r.root().join(at)).unwrap();
    };
    link("../shared/ca.txt", "apps/prod/linked.txt");
    link("../shared/gen.yaml", "apps/prod/linked-gen.yaml");
    common::git(&r.root(), &["add", "-A"]);
    r
}

/// Each generator input outside the overlay, with the text of the line its refusal is reported
/// at (a `files:` source's or a `generators:` file's at its entry) and the name of the
/// ConfigMap it generates.
const GENERATOR_INPUTS: [(&str, &str, &str); 4] = [
    (
        "configMapGenerator:\n  - name: ca\n    files:\n      - ../shared/ca.txt\n",
        "- ../shared/ca.txt",
        "name: ca-",
    ),
    (
        "configMapGenerator:\n  - name: ca\n    files:\n      - ca.txt=linked.txt\n",
        "- ca.txt=linked.txt",
        "name: ca-",
    ),
    (
        "generators:\n  - ../shared/gen.yaml\n",
        "../shared/gen.yaml",
        "name: from-gen-",
    ),
    (
        "generators:\n  - linked-gen.yaml\n",
        "linked-gen.yaml",
        "name: from-gen-",
    ),
];

/// kustomize's default restrictor bounds what generators read as it bounds resources and
/// patches: a `files:` source and a `generators:` file outside the overlay's directory, or a
/// link in it leading out, are each an `overlay-build-error` at their entry (kubectl refuses
/// each: "security; file ... is not in or below ..."). Deployed only by Flux, which builds
/// without the restrictor within the repository, the overlays whose input is a file build
/// (kubectl with `--load-restrictor LoadRestrictionsNone` renders the generated ConfigMap) and
/// check passes; a linked input is not in Flux's artifact, a build error naming the link.
#[test]
fn generator_files_outside_the_overlay_are_refused_unless_only_flux_deploys_it() {
    for (k, entry, generated) in GENERATOR_INPUTS {
        let r = generator_tree(false, k);
        let (code, hits) = r.check(&[]);
        let errors = of(&hits, "overlay-build-error");
        assert_eq!(errors.len(), 1, "{entry}: {hits:?}");
        let kfile = "apps/prod/kustomization.yaml";
        assert_eq!(
            (errors[0].path.as_str(), errors[0].line),
            (kfile, line_of(&r.root(), kfile, entry)),
            "{hits:?}"
        );
        assert!(
            errors[0].message.contains("is not in or below apps/prod"),
            "{hits:?}"
        );
        let linked = k.contains("linked");
        assert_eq!(
            errors[0].message.contains("(a link to apps/shared/"),
            linked,
            "{hits:?}"
        );
        assert_eq!(code, 1, "{hits:?}");
        if let Some(refused) = kubectl(&r, false, true) {
            let refused = refused.unwrap_err();
            assert!(refused.contains("is not in or below"), "{entry}: {refused}");
        }

        // Flux's artifact holds no symbolic link (source-controller archives regular files and
        // directories only): the linked input is missing from Flux's build, the other renders.
        let r = generator_tree(true, k);
        let (code, hits) = r.check(&[]);
        let errors = of(&hits, "overlay-build-error");
        if linked {
            assert_eq!(errors.len(), 1, "{entry}: {hits:?}");
            assert!(
                errors[0].message.contains("symbolic link apps/prod/linked"),
                "{hits:?}"
            );
            assert_eq!(code, 1, "{entry}: {hits:?}");
            continue;
        }
        assert!(errors.is_empty(), "{hits:?}");
        assert_eq!(code, 0, "{entry}: {hits:?}");
        if let Some(render) = kubectl(&r, true, true) {
            let render = render.unwrap();
            assert!(render.contains(generated), "{entry}: {render}");
        }
    }
}

/// Flux confines the build to the repository: a `files:` source or a `generators:` file
/// outside it is an `overlay-build-error` saying so, for the overlay only Flux deploys.
#[test]
fn generator_files_outside_the_repository_are_refused_for_a_flux_only_overlay() {
    for (k, at) in [
        (
            "configMapGenerator:\n  - name: ca\n    files:\n      - ../../../outside/ca.txt\n",
            "outside/ca.txt",
        ),
        (
            "generators:\n  - ../../../outside/gen.yaml\n",
            "outside/gen.yaml",
        ),
    ] {
        let r = generator_tree(true, k);
        common::write(&r.outside(), "ca.txt", "not a secret\n");
        let gen_text = std::fs::read_to_string(r.root().join("apps/shared/gen.yaml")).unwrap();
        common::write(&r.outside(), "gen.yaml", &gen_text);
        let (code, hits) = r.check(&[]);
        let errors = of(&hits, "overlay-build-error");
        assert_eq!(errors.len(), 1, "{hits:?}");
        assert_eq!(
            errors[0].line,
            line_of(&r.root(), "apps/prod/kustomization.yaml", at),
            "{hits:?}"
        );
        assert!(
            errors[0].message.contains("is outside the repository"),
            "{hits:?}"
        );
        assert_eq!(code, 1, "{hits:?}");
    }
}

/// `render-failed`'s hint names the command the render ran: with
/// `--load-restrictor LoadRestrictionsNone` for the overlay only Flux deploys, without it for
/// the same overlay nothing deploys. The render fails on two objects of one identity.
#[test]
fn render_failed_names_the_command_with_the_flag_it_ran_with() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n";
    for flux in [true, false] {
        let r = generator_tree(flux, "resources:\n  - a.yaml\n  - b.yaml\n");
        r.write("apps/prod/a.yaml", cm);
        r.write("apps/prod/b.yaml", cm);
        common::git(&r.root(), &["add", "-A"]);
        if kubectl(&r, flux, true).is_none() {
            return;
        }
        let (_, hits) = r.check(&["--render=always"]);
        let failed = of(&hits, "render-failed");
        assert_eq!(failed.len(), 1, "{hits:?}");
        let want = if flux {
            "(`kubectl kustomize --load-restrictor LoadRestrictionsNone apps/prod`)"
        } else {
            "(`kubectl kustomize apps/prod`)"
        };
        assert!(failed[0].hint.contains(want), "{flux}: {:?}", failed[0]);
        assert_eq!(
            failed[0].hint.contains("--load-restrictor"),
            flux,
            "{:?}",
            failed[0]
        );
    }
}

/// A path-valued field kustomize loads but the model does not replay, naming a file (or
/// directory) outside the repository: the kustomization text added to the overlay, the files
/// written in `<tmp>/outside` (or, `in_repo`, under the repository), and the text of the line
/// the refusal is reported at.
struct Loaded {
    kustomization: &'static str,
    outside: Files,
    in_repo: Files,
    at: &'static str,
}

/// Files to write: a relative path and its text.
type Files = &'static [(&'static str, &'static str)];

/// A schema kustomize accepts (no definitions).
const SCHEMA: &str = "{\"definitions\": {}}\n";

/// A replacement copying the generated ConfigMap's name into itself.
const REPLACEMENT: &str = "source:\n  kind: ConfigMap\n  name: from-gen\ntargets:\n  - select:\n      kind: ConfigMap\n      name: from-gen\n    fieldPaths:\n      - data.MODE\n";

/// A `PatchTransformer` whose patch file is outside the repository.
const PATCH_TRANSFORMER: &str = "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: add\npath: ../../../outside/patch.yaml\ntarget:\n  kind: ConfigMap\n";

const CM_PATCH: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-gen\ndata:\n  OUTER: \"1\"\n";

/// One case per field family (api/types/kustomization.go, api/internal/target/kusttarget.go).
const LOADED: [Loaded; 10] = [
    // A `=` in a path that is no generator's `files:` entry is part of the path (it was split
    // as `[key=]path`, judging `schema.json` beside the kustomization).
    Loaded {
        kustomization: "openapi:\n  path: ../../../outside/a=schema.json\n",
        outside: &[("a=schema.json", SCHEMA)],
        in_repo: &[],
        at: "path: ../../../outside/a=schema.json",
    },
    Loaded {
        kustomization: "openapi:\n  path: ../../../outside/schema.json\n",
        outside: &[("schema.json", SCHEMA)],
        in_repo: &[],
        at: "path: ../../../outside/schema.json",
    },
    Loaded {
        kustomization: "crds:\n  - ../../../outside/crd.json\n",
        outside: &[("crd.json", SCHEMA)],
        in_repo: &[],
        at: "- ../../../outside/crd.json",
    },
    Loaded {
        kustomization: "replacements:\n  - path: ../../../outside/replacement.yaml\n",
        outside: &[("replacement.yaml", REPLACEMENT)],
        in_repo: &[],
        at: "path: ../../../outside/replacement.yaml",
    },
    Loaded {
        kustomization: "helmCharts:\n  - name: chart\n    valuesFile: ../../../outside/values.yaml\n",
        outside: &[("values.yaml", "replicas: 1\n")],
        in_repo: &[],
        at: "valuesFile:",
    },
    Loaded {
        kustomization: "helmGlobals:\n  chartHome: ../../../outside/charts\nhelmCharts:\n  - name: chart\n",
        outside: &[("charts/chart/Chart.yaml", "name: chart\n")],
        in_repo: &[],
        at: "chartHome:",
    },
    Loaded {
        kustomization: "configurations:\n  - ../../../outside/config.yaml\n",
        outside: &[("config.yaml", "nameReference: []\n")],
        in_repo: &[],
        at: "outside/config.yaml",
    },
    Loaded {
        kustomization: "transformers:\n  - ../../../outside/transformer.yaml\n",
        outside: &[
            ("transformer.yaml", PATCH_TRANSFORMER),
            ("patch.yaml", CM_PATCH),
        ],
        in_repo: &[],
        at: "outside/transformer.yaml",
    },
    Loaded {
        kustomization: "transformers:\n  - transformer.yaml\n",
        outside: &[("patch.yaml", CM_PATCH)],
        in_repo: &[("apps/prod/transformer.yaml", PATCH_TRANSFORMER)],
        at: "- transformer.yaml",
    },
    Loaded {
        kustomization: "patches:\n  - path: ../../../outside/patch.yaml\n",
        outside: &[("patch.yaml", CM_PATCH)],
        in_repo: &[],
        at: "outside/patch.yaml",
    },
];

/// The Flux-only overlay of `generator_tree` (its generators file included) with the case's
/// field added and its files written.
fn loaded_tree(case: &Loaded) -> Repo {
    let k = format!(
        "generators:\n  - ../shared/gen.yaml\n{}",
        case.kustomization
    );
    let r = generator_tree(true, &k);
    for (rel, text) in case.outside {
        common::write(&r.outside(), rel, text);
    }
    for (rel, text) in case.in_repo {
        r.write(rel, text);
    }
    common::git(&r.root(), &["add", "-A"]);
    r
}

/// Flux confines every file kustomize loads to the repository, the ones of fields the model
/// does not replay too: `openapi.path`, `crds`, `replacements[].path`, `helmCharts`
/// values files and the chart home, `configurations`, a `transformers:` file and the patch a
/// transformer configuration names, and a patch. Each outside the repository is an
/// `overlay-build-error` at the line naming it, and `check --render` does not run kubectl
/// unrestricted on the overlay (it would load the file): a `render-failed` saying why.
#[test]
fn every_file_kustomize_loads_outside_the_repository_is_refused_for_a_flux_only_overlay() {
    let kfile = "apps/prod/kustomization.yaml";
    for case in &LOADED {
        let r = loaded_tree(case);
        let (_, hits) = r.check(&[]);
        let line = line_of(&r.root(), kfile, case.at);
        let errors = of(&hits, "overlay-build-error");
        let found = errors
            .iter()
            .find(|h| h.path == kfile && h.line == line)
            .unwrap_or_else(|| panic!("{}: {hits:?}", case.kustomization));
        assert!(
            found.message.contains("is outside the repository"),
            "{found:?}"
        );
        if common::kubectl().is_none() {
            common::missing("kubectl (for check --render)");
            continue;
        }
        let (_, hits) = r.check(&["--render=always"]);
        let failed = of(&hits, "render-failed");
        assert_eq!(failed.len(), 1, "{}: {hits:?}", case.kustomization);
        assert!(failed[0].message.contains("not run"), "{hits:?}");
        assert!(
            failed[0].message.contains("is outside the repository"),
            "{hits:?}"
        );
    }
}

/// kubectl with `--load-restrictor LoadRestrictionsNone` (what `check --render` runs for a
/// Flux-only overlay) loads the outside files of the cases it can build without helm: the
/// render `check --render` refuses to run would have read them.
#[test]
fn kubectl_unrestricted_loads_the_outside_files_the_guard_keeps_it_from() {
    for case in LOADED.iter().filter(|c| !c.kustomization.contains("helm")) {
        let r = loaded_tree(case);
        let Some(render) = kubectl(&r, true, true) else {
            return;
        };
        assert!(render.is_ok(), "{}: {render:?}", case.kustomization);
        if case.outside.iter().any(|(f, _)| *f == "patch.yaml") {
            let render = render.unwrap();
            assert!(render.contains("OUTER"), "{}: {render}", case.kustomization);
        }
        // Without the outside files, the same build fails: it reads them.
        std::fs::remove_dir_all(r.outside()).unwrap();
        let failed = kubectl(&r, true, true).unwrap();
        assert!(failed.is_err(), "{}: {failed:?}", case.kustomization);
    }
}

/// A path the model cannot judge (a pattern, a value that is not a string, a directory of
/// transformer configurations it does not walk) is no finding of its own, but `check --render`
/// does not run kubectl unrestricted on the Flux-only overlay: a `render-failed` saying why.
#[test]
fn a_path_the_model_cannot_judge_keeps_the_render_from_running_unrestricted() {
    let cases: [(&str, Files, &str); 3] = [
        (
            "crds:\n  - ../shared/*.json\n",
            &[("apps/shared/crd.json", SCHEMA)],
            "is a pattern",
        ),
        (
            "openapi:\n  path:\n    - schema.json\n",
            &[("apps/prod/schema.json", SCHEMA)],
            "is not a string",
        ),
        (
            "transformers:\n  - ../shared/transformers\n",
            &[
                (
                    "apps/shared/transformers/kustomization.yaml",
                    "resources:\n  - t.yaml\n",
                ),
                ("apps/shared/transformers/t.yaml", PATCH_TRANSFORMER),
            ],
            "a directory the model does not walk",
        ),
    ];
    if common::kubectl().is_none() {
        common::missing("kubectl (for check --render)");
        return;
    }
    for (k, in_repo, why) in cases {
        let case = Loaded {
            kustomization: k,
            outside: &[("patch.yaml", CM_PATCH)],
            in_repo,
            at: "",
        };
        let r = loaded_tree(&case);
        let (_, hits) = r.check(&["--render=always"]);
        let failed = of(&hits, "render-failed");
        assert_eq!(failed.len(), 1, "{k}: {hits:?}");
        assert!(failed[0].message.contains("not run"), "{k}: {hits:?}");
        assert!(failed[0].message.contains(why), "{k}: {hits:?}");
        assert!(
            failed[0]
                .message
                .contains("cannot tell whether it reads a file outside the repository"),
            "{k}: {hits:?}"
        );
        // The hint covers a path the model cannot judge, not only one outside the repository.
        assert!(
            failed[0].hint.contains("the model cannot judge"),
            "{k}: {:?}",
            failed[0]
        );
    }
}

/// Without a `chartHome`, a Helm chart's home is `charts` in the kustomization directory, both
/// for `helmCharts` and for a `HelmChartInflationGenerator` plugin configuration listed under
/// `generators:` (kustomize's `HelmChartInflationGenerator` `validateArgs`). When that directory
/// is a link leading outside the repository, a Flux-only overlay's build is refused at the line
/// naming the chart (the `helmCharts` line, or the `generators:` entry), and `check --render`
/// does not run kubectl unrestricted on it.
#[test]
fn a_default_chart_home_outside_the_repository_is_refused_for_a_flux_only_overlay() {
    const HELM: &str = "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: chart\nname: chart\n";
    let cases: [(&str, Files, &str); 2] = [
        ("helmCharts:\n  - name: chart\n", &[], "helmCharts:"),
        // Continues the `generators:` list `loaded_tree` starts.
        (
            "  - helm.yaml\n",
            &[("apps/prod/helm.yaml", HELM)],
            "- helm.yaml",
        ),
    ];
    let kfile = "apps/prod/kustomization.yaml";
    for (k, in_repo, at) in cases {
        let case = Loaded {
            kustomization: k,
            outside: &[("charts/chart/Chart.yaml", "name: chart\n")],
            in_repo,
            at,
        };
        let r = loaded_tree(&case);
        std::os::unix::fs::symlink("../../../outside/charts", r.root().join("apps/prod/charts"))
            .unwrap();
        common::git(&r.root(), &["add", "-A"]);
        let (_, hits) = r.check(&[]);
        let line = line_of(&r.root(), kfile, at);
        let errors = of(&hits, "overlay-build-error");
        let found = errors
            .iter()
            .find(|h| h.path == kfile && h.line == line)
            .unwrap_or_else(|| panic!("{k}: {hits:?}"));
        assert!(
            found.message.contains("is outside the repository"),
            "{found:?}"
        );
        if common::kubectl().is_none() {
            common::missing("kubectl (for check --render)");
            continue;
        }
        let (_, hits) = r.check(&["--render=always"]);
        let failed = of(&hits, "render-failed");
        assert_eq!(failed.len(), 1, "{k}: {hits:?}");
        assert!(failed[0].message.contains("not run"), "{k}: {hits:?}");
        assert!(
            failed[0].message.contains("is outside the repository"),
            "{k}: {hits:?}"
        );
    }
}
